import dataiku

# Next month's sales per store: last month's, plus the trend.
sales = dataiku.Dataset('store_sales').get_dataframe()
dataiku.Dataset('store_forecast').write_with_schema(sales)
